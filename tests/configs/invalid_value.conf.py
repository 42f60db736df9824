workers = 'many'
